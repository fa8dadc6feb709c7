"""Compare two export folders of one database, format by format: CSV byte for byte, JSON
value for value (and byte for byte), Parquet schema (types and the pandas metadata, less the
library versions) and values, xlsx cell values, number formats, widths, frozen panes and
filters (the About sheet's export time left out), metadata.json less its time. Used by
tests/test_export_stream.py against the reference export (tests/export_reference.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def differences(a: Path, b: Path, fmt: str) -> list[str]:
    """What differs between the export folders ``a`` and ``b`` (empty: the same)."""
    out: list[str] = []
    names_a = sorted(p.name for p in a.iterdir())
    names_b = sorted(p.name for p in b.iterdir())
    if names_a != names_b:
        return [f"files differ: {sorted(set(names_a) ^ set(names_b))}"]
    for name in names_a:
        pa_, pb = a / name, b / name
        if name == "metadata.json":
            ma, mb = (json.loads(p.read_text(encoding="utf-8")) for p in (pa_, pb))
            for m in (ma, mb):
                m.pop("exported_at", None)
            if ma != mb:
                out.append(f"{name}: {_dict_diff(ma, mb)}")
        elif fmt == "csv":
            if pa_.read_bytes() != pb.read_bytes():
                out.append(f"{name}: bytes differ: {_first_diff(pa_.read_bytes(), pb.read_bytes())}")
        elif fmt == "json":
            if json.loads(pa_.read_text(encoding="utf-8")) != json.loads(pb.read_text(encoding="utf-8")):
                out.append(f"{name}: values differ")
            elif pa_.read_bytes() != pb.read_bytes():
                out.append(f"{name}: same values, bytes differ: "
                           f"{_first_diff(pa_.read_bytes(), pb.read_bytes())}")  # fmt: skip
        elif fmt == "parquet":
            out += [f"{name}: {d}" for d in _parquet_diff(pa_, pb)]
        elif fmt == "xlsx":
            out += [f"{name}: {d}" for d in _xlsx_diff(pa_, pb)]
    return out


def _first_diff(x: bytes, y: bytes) -> str:
    i = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
    return f"at byte {i}: {x[max(i - 60, 0):i + 60]!r} != {y[max(i - 60, 0):i + 60]!r}"


def _dict_diff(x: dict[str, Any], y: dict[str, Any]) -> str:
    keys = sorted(set(x) | set(y))
    return "; ".join(f"{k}: {x.get(k)!r} != {y.get(k)!r}" for k in keys if x.get(k) != y.get(k))


def _parquet_diff(x: Path, y: Path) -> list[str]:
    import pyarrow.parquet as pq

    tx, ty = pq.read_table(x), pq.read_table(y)
    out = []
    if not tx.schema.equals(ty.schema, check_metadata=False):
        out.append(f"schema {tx.schema} != {ty.schema}")
        return out

    def pandas_meta(t: Any) -> Any:
        meta = json.loads((t.schema.metadata or {}).get(b"pandas", b"{}"))
        meta.pop("creator", None)
        meta.pop("pandas_version", None)
        return meta

    if pandas_meta(tx) != pandas_meta(ty):
        out.append(f"pandas metadata {pandas_meta(tx)} != {pandas_meta(ty)}")
    if not tx.equals(ty):
        for column in tx.column_names:
            if not tx[column].equals(ty[column]):
                vx, vy = tx[column].to_pylist(), ty[column].to_pylist()
                i = next((i for i, (p, q) in enumerate(zip(vx, vy, strict=False)) if p != q), None)
                out.append(f"column {column} differs (row {i}: {vx[i] if i is not None else ''!r} "
                           f"!= {vy[i] if i is not None else ''!r})")  # fmt: skip
    return out


def _xlsx_diff(x: Path, y: Path) -> list[str]:
    import openpyxl

    bx, by = openpyxl.load_workbook(x), openpyxl.load_workbook(y)
    if bx.sheetnames != by.sheetnames:
        return [f"sheets {bx.sheetnames} != {by.sheetnames}"]
    out = []
    for name in bx.sheetnames:
        sx, sy = bx[name], by[name]
        if (sx.freeze_panes, sx.auto_filter.ref) != (sy.freeze_panes, sy.auto_filter.ref):
            out.append(f"{name}: panes/filter {(sx.freeze_panes, sx.auto_filter.ref)} != "
                       f"{(sy.freeze_panes, sy.auto_filter.ref)}")  # fmt: skip
        wx = {k: d.width for k, d in sx.column_dimensions.items()}
        wy = {k: d.width for k, d in sy.column_dimensions.items()}
        if wx != wy:
            out.append(f"{name}: widths {wx} != {wy}")
        rows_x, rows_y = list(sx.iter_rows()), list(sy.iter_rows())
        if len(rows_x) != len(rows_y):
            out.append(f"{name}: {len(rows_x)} rows != {len(rows_y)}")
            continue
        for rx, ry in zip(rows_x, rows_y, strict=True):
            cx = [(c.value, c.number_format, c.data_type, c.font.b) for c in rx]
            cy = [(c.value, c.number_format, c.data_type, c.font.b) for c in ry]
            if name == "About" and rx[0].value == "Exported":
                continue
            if cx != cy:
                out.append(f"{name}: row {rx[0].row}: {cx} != {cy}")
                break
    return out
