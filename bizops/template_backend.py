"""The template backend: Django's ``DjangoTemplates``, less one reference cycle per page.

To render a page, Django's backend makes a ``RequestContext`` and pushes the view's context dict onto
it (``django.template.context.make_context``) without popping it after: the pushed layer (a
``ContextDict``) and the context point at each other. So everything a page's context held (the
22,040-node plan's map: 53,791 objects) outlived the response until the cyclic garbage collector's
next full pass, and made that pass longer. This backend pushes the same layer in a ``with`` block,
which pops it once the template is rendered: the page's objects are freed with the response
(``tests/bizops/test_reference_cycles.py``). Loaders, builtins, context processors, autoescaping
and debug pages are Django's; only ``render`` with a request and a context differs, and a template
error's traceback no longer lists the view's variables in the context it shows (popped by then).
"""

from __future__ import annotations

from typing import Any

from django.template import RequestContext, TemplateDoesNotExist
from django.template.backends.django import DjangoTemplates as DjangoTemplatesBackend
from django.template.backends.django import Template as DjangoTemplate
from django.template.backends.django import reraise


class Template(DjangoTemplate):
    def render(self, context: dict[str, Any] | None = None, request: Any = None) -> str:
        if request is None or not context or not isinstance(context, dict):
            # Nothing is pushed (or Django refuses the context): Django's render, which has no cycle.
            return super().render(context, request)
        layered = RequestContext(request, autoescape=self.backend.engine.autoescape)
        try:
            with layered.push(context):  # as make_context, popped after rendering
                return self.template.render(layered)
        except TemplateDoesNotExist as exc:
            reraise(exc, self.backend)


class DjangoTemplates(DjangoTemplatesBackend):
    def from_string(self, template_code: str) -> Template:
        return Template(self.engine.from_string(template_code), self)

    def get_template(self, template_name: str) -> Template:
        try:
            return Template(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            reraise(exc, self)
