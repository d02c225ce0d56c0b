from django.core.management.base import BaseCommand
from django.db import transaction

from bizops import demo


class Command(BaseCommand):
    help = "Load the demo organization “Acme Copywriting” once; a second run changes nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, **options) -> None:
        if demo.demo_exists():
            self.stdout.write("The demo organization exists already; nothing loaded.")
        else:
            with transaction.atomic():
                org, people = demo.load_core()
                # Each app's demo.py adds its part, in INSTALLED_APPS order (core, planning, metrics).
                for module in _app_demo_modules():
                    module.load(org, people)
            self.stdout.write(self.style.SUCCESS("Loaded the demo organization “Acme Copywriting”."))
        if not options["quiet_logins"]:
            self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
            for person in demo.PEOPLE:
                self.stdout.write(f"  {person.role:<8} {person.email}")


def _app_demo_modules():
    """The ``demo`` modules of the installed apps that have one, in INSTALLED_APPS order."""
    from importlib import import_module

    from django.apps import apps

    names = [f"{config.name}.demo" for config in apps.get_app_configs() if config.name != "bizops"]
    return [import_module(name) for name in names if _has(name)]


def _has(module_name: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False
