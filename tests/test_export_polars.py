"""The many-studies Parquet dataset read by polars as one table per kind (docs/analysis.md,
*Many studies, one dataset*): the partition column, the counts and the UTC moments survive."""

from __future__ import annotations

import pytest

from tests.test_export_dataset import studies  # noqa: F401  (the fixture: two studies)
from usetest.export import export_studies, study_slug

pl = pytest.importorskip("polars")
pytest.importorskip("pyarrow")


def test_polars_reads_each_table_across_studies(studies, tmp_path):  # noqa: F811
    out = tmp_path / "lab"
    export_studies(studies, out)
    # as docs/analysis.md writes it
    attempts = pl.scan_parquet(f"{out}/attempts/*/*.parquet", hive_partitioning=True).collect()
    counts = dict(attempts.group_by("study").len().iter_rows())
    assert counts == {"fixture-study": 6,
                      study_slug("Mobile banking app — money management"): 12}  # fmt: skip
    assert attempts.schema["started_at"] == pl.Datetime("ms", "UTC")
    assert attempts.schema["over_time_limit"] in (pl.Boolean, pl.Null)
    sessions = pl.read_parquet(out / "sessions", hive_partitioning=True)  # or the folder
    assert sorted(sessions["participant"].to_list()) == ["P01", "P01", "P02", "P02", "P03"]
