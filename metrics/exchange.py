"""Open export and import of a whole plan as JSON (format documented in docs/plan-format.md).

Export carries the tree, key results, KPI links (by name) and people (by email), so a file can move
between organizations. Alignment is the one exception: the plan this one serves and the node each
objective serves are named by their ids in this installation (stable: an id never changes or comes
back), with their titles for people; an import resolves them here, and reports each link it cannot
resolve as a warning and leaves it out. Import creates a draft plan through the same services the
pages use, in one transaction: a file with any error saves nothing and says where the error is.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.db import transaction
from django.utils import timezone

from bizops.errors import Conflict, ValidationError
from bizops.models import Membership, Team
from bizops.text import clean_text
from planning import services as planning
from planning.models import ActionStep, Plan, StepStatus
from planning.selectors import editing_tree

from .models import KPI, Contribution, KeyResult
from .selectors.alignment import link_rows
from .services import key_result_create
from .services.alignment import TARGET_KINDS, objective_align

FORMAT = "bizops-plan"
VERSION = 1
MAX_NODES = 20_000
MAX_FILE_BYTES = 5 * 1024 * 1024
FILE_ERROR = "Upload a .json plan file of at most 5 MB."


def plan_file_document(upload: Any) -> Any:
    """The JSON document of an uploaded plan file (the import page's and the API's), or a
    ValidationError on ``file``: not a .json file, over 5 MB, not UTF-8 or not JSON."""
    if (
        upload is None
        or not (upload.name or "").lower().endswith(".json")
        or (upload.size or 0) > MAX_FILE_BYTES
    ):
        raise ValidationError({"file": FILE_ERROR})
    try:
        return json.loads(upload.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValidationError({"file": "The file is not valid JSON."}) from None


def _email(membership: Membership | None) -> str | None:
    return membership.user.email if membership is not None else None


def _date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _number(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def plan_export(*, plan: Plan) -> dict:
    tree = editing_tree(plan=plan)
    krs: dict[int, list[KeyResult]] = {}
    for kr in KeyResult.objects.filter(plan=plan).select_related("owner__user").order_by("position", "pk"):
        krs.setdefault(kr.objective_id, []).append(kr)
    kpis: dict[int, list[str]] = {}
    for objective_id, name in (
        KPI.objects.filter(objectives__plan=plan).values_list("objectives", "name").order_by("name")
    ):
        kpis.setdefault(objective_id, []).append(name)
    serves = _links(plan)
    owner = plan.owner if plan.owner_id else None
    if owner is not None and not hasattr(owner, "user"):
        assert plan.owner_id is not None  # owner is only set when plan.owner_id is
        owner = Membership.objects.select_related("user").get(pk=plan.owner_id)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
        "plan": {
            "title": plan.title,
            "ultimate_goal": plan.ultimate_goal,
            "description": plan.description,
            "period_start": _date(plan.period_start),
            "period_end": _date(plan.period_end),
            "owner": _email(owner),
            "parent": {"id": parent.pk, "title": parent.title} if (parent := plan.parent) else None,
        },
        "milestones": [
            {
                "title": m.title,
                "description": m.description,
                "target_date": _date(m.target_date),
                "owner": _email(m.owner),
                "weight": m.weight,
                "objectives": [
                    {
                        "title": o.title,
                        "why": o.why,
                        "description": o.description,
                        "start_date": _date(o.start_date),
                        "due_date": _date(o.due_date),
                        "team": cast(Team, o.team).name if o.team_id else None,
                        "owner": _email(o.owner),
                        "weight": o.weight,
                        "kpis": kpis.get(o.pk, []),
                        "serves": serves.get(o.pk),
                        "key_results": [
                            {
                                "title": kr.title,
                                "kind": kr.kind,
                                "start": _number(kr.start),
                                "target": _number(kr.target),
                                "current": _number(kr.current),
                                "direction": kr.direction,
                                "weight": kr.weight,
                                "owner": _email(kr.owner),
                            }
                            for kr in krs.get(o.pk, [])
                        ],
                        "steps": [
                            {
                                "title": s.title,
                                "notes": s.notes,
                                "assignee": _email(s.assignee),
                                "due_date": _date(s.due_date),
                                "recurrence": s.recurrence,
                                "status": s.status,
                            }
                            for s in cast(list[ActionStep], o.children)  # not read as ``step_rows``
                        ],
                    }
                    for o in m.children
                ],
            }
            for m in tree.milestones
        ],
    }


def _links(plan: Plan) -> dict[int, dict]:
    """Each objective's link to the parent plan's node, as the file carries it (one query)."""
    return {
        row.source: {"kind": row.kind, "id": row.target, "title": row.title, "counts": row.counts}
        for row in link_rows(Contribution.objects.filter(objective__plan=plan))
    }


# --- Import -------------------------------------------------------------------------------------------


# Text that may hold line breaks; every other text of the file is one line (see ``bizops.text``).
MULTILINE_KEYS = frozenset({"ultimate_goal", "description", "why", "notes"})


class _Reader:
    """Walks the document, collecting errors by path ("milestones[0].objectives[1].title")."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def obj(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            self.errors[path or "document"] = "Expected an object."
            return {}
        return value

    def items(self, parent: dict, key: str, path: str) -> list:
        value = parent.get(key, [])
        if not isinstance(value, list):
            self.errors[f"{path}{key}"] = "Expected a list."
            return []
        return value

    def text(self, parent: dict, key: str, path: str, *, required: bool = False, limit: int = 10_000) -> str:
        value = parent.get(key)
        if value is None or value == "":
            if required:
                self.errors[f"{path}{key}"] = "Required."
            return ""
        if not isinstance(value, str):
            self.errors[f"{path}{key}"] = "Expected text."
            return ""
        try:
            value = clean_text(value, multiline=key in MULTILINE_KEYS)
        except ValidationError as exc:
            self.errors[f"{path}{key}"] = " ".join(exc.messages)
            return ""
        if len(value) > limit:
            self.errors[f"{path}{key}"] = f"Longer than {limit} characters."
        return value

    def day(self, parent: dict, key: str, path: str, *, required: bool = False) -> date | None:
        value: Any = parent.get(key)  # anything JSON holds: not text is a TypeError below
        if value in (None, ""):
            if required:
                self.errors[f"{path}{key}"] = "Required."
            return None
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            self.errors[f"{path}{key}"] = "Expected a date like 2027-01-31."
            return None

    def weight(self, parent: dict, key: str, path: str) -> int:
        value = parent.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            self.errors[f"{path}{key}"] = "Expected a whole number from 0 to 100."
            return 1
        return value


def plan_import(*, actor: Membership, document: Any) -> tuple[Plan, list[str]]:
    """Create a draft plan from an exported document; returns it with warnings (people, teams or
    KPIs that do not exist here are left out). Any error raises ValidationError and saves nothing."""
    reader = _Reader()
    doc = reader.obj(document, "")
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ValidationError(
            {"format": f'This is not a BizOps plan file (expected format "{FORMAT}", version {VERSION}).'}
        )
    head = reader.obj(doc.get("plan"), "plan")
    milestones = reader.items(doc, "milestones", "")

    def as_list(value: Any) -> list:
        return value if isinstance(value, list) else []

    count = sum(
        1 + sum(1 + len(as_list(o.get("steps"))) for o in as_list(m.get("objectives")) if isinstance(o, dict))
        for m in milestones
        if isinstance(m, dict)
    )
    if count > MAX_NODES:
        raise ValidationError({"milestones": f"The file has more than {MAX_NODES} nodes."})
    org = actor.organization
    people = {
        m.user.email.lower(): m for m in Membership.objects.filter(organization=org).select_related("user")
    }
    teams = {t.name.lower(): t for t in Team.objects.filter(organization=org)}
    kpis = {k.name.lower(): k for k in KPI.objects.filter(organization=org)}
    warnings: list[str] = []

    def person(value: Any, path: str) -> Membership | None:
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            reader.errors[path] = "Expected an email address."
            return None
        found = people.get(value.lower())
        if found is None:
            warnings.append(f"{path}: {value} is not a member here; left unassigned.")
        return found

    parent = _parent(reader, head, org.pk, warnings)
    title = reader.text(head, "title", "plan.", required=True, limit=200)
    goal = reader.text(head, "ultimate_goal", "plan.", required=True)
    start = reader.day(head, "period_start", "plan.", required=True)
    end = reader.day(head, "period_end", "plan.", required=True)
    if reader.errors:
        raise ValidationError(reader.errors)
    assert start is not None and end is not None  # required: None only with an error
    try:
        with transaction.atomic():
            plan = planning.plan_create(
                actor=actor,
                title=title,
                ultimate_goal=goal,
                description=reader.text(head, "description", "plan."),
                period_start=start,
                period_end=end,
                owner=person(head.get("owner"), "plan.owner"),
                parent=parent,
            )
            for i, raw_m in enumerate(milestones):
                mp = f"milestones[{i}]."
                m = reader.obj(raw_m, mp.rstrip("."))
                milestone = _create(
                    reader,
                    mp,
                    lambda m=m, mp=mp: planning.milestone_create(
                        actor=actor,
                        plan=plan,
                        title=reader.text(m, "title", mp, required=True, limit=200),
                        description=reader.text(m, "description", mp),
                        target_date=reader.day(m, "target_date", mp),
                        owner=person(m.get("owner"), f"{mp}owner"),
                        weight=reader.weight(m, "weight", mp),
                    ),
                )
                if milestone is None:
                    continue
                milestone.plan = plan
                for j, raw_o in enumerate(reader.items(m, "objectives", mp)):
                    op = f"{mp}objectives[{j}]."
                    o = reader.obj(raw_o, op.rstrip("."))
                    team_name = reader.text(o, "team", op, limit=120)
                    team = teams.get(team_name.lower()) if team_name else None
                    if team_name and team is None:
                        warnings.append(f"{op}team: no team “{team_name}” here; left without a team.")
                    objective = _create(
                        reader,
                        op,
                        lambda o=o, op=op, team=team, milestone=milestone: planning.objective_create(
                            actor=actor,
                            milestone=milestone,
                            title=reader.text(o, "title", op, required=True, limit=200),
                            why=reader.text(o, "why", op),
                            description=reader.text(o, "description", op),
                            start_date=reader.day(o, "start_date", op),
                            due_date=reader.day(o, "due_date", op),
                            team=team,
                            owner=person(o.get("owner"), f"{op}owner"),
                            weight=reader.weight(o, "weight", op),
                        ),
                    )
                    if objective is None:
                        continue
                    objective.plan = plan
                    _serve(reader, actor, objective, o.get("serves"), f"{op}serves", warnings)
                    for name in reader.items(o, "kpis", op):
                        kpi = kpis.get(str(name).lower())
                        if kpi is None:
                            warnings.append(f"{op}kpis: no KPI “{name}” here; link left out.")
                        else:
                            kpi.objectives.add(objective)
                    for k, raw_kr in enumerate(reader.items(o, "key_results", op)):
                        kp = f"{op}key_results[{k}]."
                        kr = reader.obj(raw_kr, kp.rstrip("."))
                        _create(
                            reader,
                            kp,
                            lambda kr=kr, kp=kp, objective=objective: key_result_create(
                                actor=actor,
                                objective=objective,
                                title=reader.text(kr, "title", kp, required=True, limit=200),
                                kind=kr.get("kind", "number"),
                                start=kr.get("start", 0),
                                target=kr.get("target"),
                                current=kr.get("current"),
                                direction=kr.get("direction", "increase"),
                                weight=reader.weight(kr, "weight", kp),
                                owner=person(kr.get("owner"), f"{kp}owner"),
                            ),
                        )
                    for n, raw_s in enumerate(reader.items(o, "steps", op)):
                        sp = f"{op}steps[{n}]."
                        s = reader.obj(raw_s, sp.rstrip("."))
                        status = s.get("status", StepStatus.TODO)
                        _create(
                            reader,
                            sp,
                            lambda s=s, sp=sp, objective=objective, status=status: planning.step_create(
                                actor=actor,
                                objective=objective,
                                title=reader.text(s, "title", sp, required=True, limit=200),
                                notes=reader.text(s, "notes", sp),
                                assignee=person(s.get("assignee"), f"{sp}assignee"),
                                due_date=reader.day(s, "due_date", sp),
                                recurrence=s.get("recurrence", "none"),
                                status=status,
                            ),
                        )
            if reader.errors:
                raise ValidationError(reader.errors)
    except Conflict as exc:  # pragma: no cover - a new draft is always editable
        raise ValidationError({"plan": exc.message}) from None
    return plan, warnings


def _reference(reader: _Reader, value: Any, path: str) -> tuple[int, str] | None:
    """A link's ``{"id": ..., "title": ...}``: the id, and the title said in warnings."""
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or isinstance(value.get("id"), bool)
        or not isinstance(value.get("id"), int)
    ):
        reader.errors[path] = 'Expected {"id": <a number>, "title": <text>} or null.'
        return None
    title = value.get("title")
    return value["id"], f" (“{title}”)" if isinstance(title, str) and title else ""


def _parent(reader: _Reader, head: dict, organization_id: int, warnings: list[str]) -> Plan | None:
    """The plan the imported one serves, when its id names a plan here; a warning when it does not."""
    found = _reference(reader, head.get("parent"), "plan.parent")
    if found is None:
        return None
    pk, title = found
    parent = Plan.objects.filter(organization_id=organization_id, pk=pk).first()
    if parent is None:
        warnings.append(f"plan.parent: no plan #{pk}{title} here; the plan serves no plan.")
    return parent


def _serve(
    reader: _Reader, actor: Membership, objective: Any, value: Any, path: str, warnings: list[str]
) -> None:
    """Link the imported objective to the node it served, or say why the link is left out."""
    found = _reference(reader, value, path)
    if found is None:
        return
    pk, title = found
    kind = value.get("kind")
    if kind not in TARGET_KINDS:
        reader.errors[f"{path}.kind"] = "Expected milestone, objective or key_result."
        return
    counts = value.get("counts", True)
    if not isinstance(counts, bool):
        reader.errors[f"{path}.counts"] = "Expected true or false."
        return
    if objective.plan.parent_id is None:
        warnings.append(f"{path}: {TARGET_KINDS[kind]} #{pk}{title} left out: the plan serves no plan here.")
        return
    try:
        with transaction.atomic():
            objective_align(actor=actor, objective=objective, target_kind=kind, target_id=pk, counts=counts)
    except ValidationError as exc:
        reason = " ".join(exc.messages)
        warnings.append(f"{path}: {TARGET_KINDS[kind]} #{pk}{title} left out: {reason}")


def _create(reader: _Reader, path: str, make):
    """Run a service; file its field errors under this node's path and go on, to report them all."""
    try:
        with transaction.atomic():
            return make()
    except ValidationError as exc:
        for field, messages in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
            reader.errors[f"{path}{field}"] = " ".join(messages)
        return None
