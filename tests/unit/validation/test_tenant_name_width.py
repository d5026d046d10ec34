"""An overlay's tenant folder name must fit the entity table's tenant column (issue 16 QA).

Folder names up to 128 characters passed validation while the table's tenant column (here
VARCHAR(8)) could hold no such tenant: with a database, ``validate`` now says WF101 on the
overlay file. Both dialects.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb import validate


def _folder(tmp_path: Path, tenant: str) -> Path:
    folder = tmp_path / "wf"
    folder.mkdir()
    shutil.copy(WORKFLOWS / "invoice.json", folder / "invoice.json")
    overlay = folder / "tenants" / tenant
    overlay.mkdir(parents=True)
    (overlay / "invoice.json").write_text(json.dumps({"timers": {"due": {"after": "P30D"}}}))
    return folder


def _table(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE invoices (id VARCHAR(64) PRIMARY KEY, status VARCHAR(32) "
                    "NOT NULL, version INTEGER NOT NULL, tenant_id VARCHAR(8))"
                )
            )
    finally:
        engine.dispose()


def test_a_tenant_name_wider_than_the_tenant_column_is_wf101_on_the_overlay(
    db_url: str, tmp_path: Path
) -> None:
    _table(db_url)
    folder = _folder(tmp_path, "a_tenant_too_wide")
    found = [p for p in validate([str(folder)], db=db_url).errors if p.code == "WF101"]
    assert len(found) == 1
    assert found[0].file == str(folder / "tenants" / "a_tenant_too_wide" / "invoice.json")
    assert "17 characters" in found[0].message
    assert "holds at most 8" in found[0].message


def test_a_tenant_name_that_fits_passes(db_url: str, tmp_path: Path) -> None:
    _table(db_url)
    folder = _folder(tmp_path, "acme")
    assert not [p for p in validate([str(folder)], db=db_url).errors if p.code == "WF101"]
