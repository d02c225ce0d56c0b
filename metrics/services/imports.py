"""Measurements imported from a CSV file: every row checked first, then all of them saved in one
transaction through ``measurement_record``, or none."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from bizops.errors import ValidationError
from bizops.models import Membership
from bizops.text import clean_text

from ..models import KPI
from .common import _decimal, _require
from .kpis import can_record, measurement_record


@dataclass
class ImportResult:
    rows: int = 0
    saved: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 5000
IMPORT_COLUMNS = ["kpi", "period", "value", "note"]


def measurements_import_csv(*, actor: Membership, content: bytes) -> ImportResult:
    """Import measurements from CSV (columns: kpi, period, value, note). Every row is checked first;
    if any row is wrong nothing is saved and the result lists each error with its line number."""
    _require(actor, "metrics_import", "Managers, admins and owners import measurements.")
    result = ImportResult()
    if len(content) > MAX_IMPORT_BYTES:
        result.errors.append((0, "The file is larger than 1 MB."))
        return result
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append((0, "The file is not UTF-8 text. Export it as CSV (UTF-8)."))
        return result
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("kpi", "period", "value") if c not in header]
    if missing:
        result.errors.append(
            (1, f"Missing column(s): {', '.join(missing)}. Expected: {', '.join(IMPORT_COLUMNS)}.")
        )
        return result
    kpis = {k.name.lower(): k for k in KPI.objects.filter(organization_id=actor.organization_id)}
    parsed: list[tuple[KPI, date, str, str]] = []
    try:
        for line, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            result.rows += 1
            if result.rows > MAX_IMPORT_ROWS:
                result.errors.append((line, f"More than {MAX_IMPORT_ROWS} rows: split the file."))
                break
            kpi = kpis.get(row.get("kpi", "").lower())
            if kpi is None:
                result.errors.append((line, f"No KPI named “{row.get('kpi', '')}”."))
                continue
            try:
                day = date.fromisoformat(row.get("period", ""))
            except ValueError:
                result.errors.append((line, f"“{row.get('period', '')}” is not a date like 2027-03-01."))
                continue
            errors: dict[str, str] = {}
            _decimal(row.get("value"), "value", errors)
            if errors:
                result.errors.append((line, f"“{row.get('value', '')}” is not a number."))
                continue
            if not can_record(actor, kpi):
                result.errors.append((line, f"You cannot record values for “{kpi.name}”."))
                continue
            try:
                note = clean_text(row.get("note", ""), multiline=True)
            except ValidationError as exc:
                result.errors.append((line, f"note: {' '.join(exc.messages)}"))
                continue
            parsed.append((kpi, day, row.get("value", ""), note))
    except csv.Error as exc:
        result.errors.append((reader.line_num, f"The file is not valid CSV: {exc}."))
    if result.errors:
        return result
    try:
        with transaction.atomic():
            for kpi, day, value, note in parsed:
                measurement_record(actor=actor, kpi=kpi, period=day, value=value, note=note)
                result.saved += 1
    except ValidationError as exc:  # e.g. a period too far in the future: the whole file is refused
        result.saved = 0
        result.errors.append((0, " ".join(exc.messages)))
    return result
