"""The demo organization, "Acme Copywriting": loaded once by ``manage.py load_demo``.

Each app adds its part with a ``demo.py`` module holding ``load(org, people)``; the command finds them
with Django's autodiscovery, so the core never imports the apps built on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from .models import Membership, Organization, Team, User
from .roles import Role

DEMO_SLUG = "acme-copywriting"
DEMO_PASSWORD = "plan-together-2026"


@dataclass(frozen=True)
class DemoPerson:
    key: str
    email: str
    name: str
    role: str


PEOPLE = [
    DemoPerson("owner", "olivia@acme.example", "Olivia Owens", Role.OWNER),
    DemoPerson("manager", "max@acme.example", "Max Mendes", Role.MANAGER),
    DemoPerson("mia", "mia@acme.example", "Mia Moreau", Role.MEMBER),
    DemoPerson("sam", "sam@acme.example", "Sam Sato", Role.MEMBER),
    DemoPerson("lee", "lee@acme.example", "Lee Larsen", Role.MEMBER),
    DemoPerson("viewer", "vic@acme.example", "Vic Varga", Role.VIEWER),
]


def demo_exists() -> bool:
    return Organization.objects.filter(slug=DEMO_SLUG).exists()


@transaction.atomic
def load_core() -> tuple[Organization, dict[str, Membership]]:
    org = Organization.objects.create(name="Acme Copywriting", slug=DEMO_SLUG, time_zone="Europe/London")
    people: dict[str, Membership] = {}
    for person in PEOPLE:
        user = User.objects.filter(email__iexact=person.email).first()
        if user is None:
            user = User.objects.create_user(
                person.email,
                DEMO_PASSWORD,
                display_name=person.name,
                time_zone="Europe/London",
                # The demo owner may open /admin/ too, so the admin can be tried.
                is_staff=person.role == Role.OWNER,
                is_superuser=person.role == Role.OWNER,
            )
        people[person.key] = Membership.objects.create(organization=org, user=user, role=person.role)
    sales = Team.objects.create(organization=org, name="Sales", lead=people["manager"])
    sales.members.add(people["manager"], people["mia"], people["sam"])
    content = Team.objects.create(organization=org, name="Content", lead=people["lee"])
    content.members.add(people["lee"], people["sam"])
    return org, people
