# %% [markdown]
# # Compliance analyst: what happened, and was it allowed?
#
# Three questions, answered from `workflow_history`, `workflow_permanent_failure_log` and
# the entity tables, with every filter pushed down into SQL:
#
# 1. Who changed what, when?
# 2. What failed this month?
# 3. Is everything that happened allowed by the config that was in force at the time?
#
# Each magic that reads the database leaves an **audit footer**: the config hashes, the SQL
# it ran and a hash of the result, also kept in the output's metadata.

# %%
%load_ext wfnb
from datetime import UTC, datetime
from pathlib import Path

import wfnb
from wfnb import frames
from wfnb.examples.energy.schema import workflows_dir

WORKFLOWS = workflows_dir()
DB = "sqlite:///demo.db"
if not Path("demo.db").exists():
    wfnb.build_demo(DB, progress=False)
END = datetime(2026, 11, 1, tzinfo=UTC)  # the demo's last simulated day
wfs = %wfnb load {WORKFLOWS}
%wfnb connect {DB}

# %% [markdown]
# ## 1. Who changed what, when?
# The last steps admins took on user registrations in October:

# %% tags=["nbval-ignore-output"]
recent = %wfnb history --workflow user_registration --since 2026-10-01 --limit 5000

# %%
cols = ["changed_at", "entity_id", "step_key", "from_status", "to_status", "user_id"]
admins = recent[recent["requester_type"] == "admin"]
admins[cols].head(8)  # newest first

# %% [markdown]
# Who did what: every step a person runs carries their `user_id` (the community admins
# here; a member on their own registration). One row per admin, one column per step, each
# call counted once (a step with a claim writes two rows):

# %%
import pandas as pd

calls = admins.drop_duplicates(["correlation_id", "entity_id"])
pd.crosstab(calls["user_id"], calls["step_key"], margins=True, margins_name="total")

# %% [markdown]
# ## 2. What failed this month?

# %% tags=["nbval-ignore-output"]
failed = %wfnb failures --since 2026-10-01

# %% [markdown]
# By workflow and error code; a failure status reached by a step (an admin marking an
# invoice undeliverable, a registration expiring) has no error code: "—".

# %%
code = failed["error_code"].astype("object").fillna("—").rename("error code")
failed.groupby([failed["workflow"], code], observed=True).size().rename("failures").to_frame()

# %% [markdown]
# How long do registrations wait at each status? (computed in SQL: a window function per
# entity, percentiles per status)

# %%
frames.dwell_times(DB, "user_registration")

# %% tags=["nbval-ignore-output"]
from wfnb.plots import dwell_plot

dwell_plot(DB, "user_registration")

# %% [markdown]
# ## 3. Conformance: replay the history against the config in force at each row
#
# Every history row carries the `config_hash` of the workflow that produced it. Rows whose
# hash is not today's config are judged by the old config, found in the git history of
# `workflows/`.

# %% tags=["nbval-ignore-output"]  (the config revisions shown depend on the clone's git history)
k = %wfnb conformance --now 2026-11-01
k

# %% tags=["nbval-ignore-output"]
k.by_config[["workflow", "config_hash", "config_rev", "rows", "fitness"]].assign(
    config_hash=lambda d: d["config_hash"].str[:12], config_rev=lambda d: d["config_rev"].str[:12]
)

# %%
invoice_configs = k.by_config[k.by_config["workflow"] == "invoice"]
assert len(invoice_configs) == 2  # today's config and the one that ran May-June
invoice_configs[["config_hash", "rows"]].assign(config_hash=lambda d: d["config_hash"].str[:12])

# %% [markdown]
# `invoice` history was written under **two** configs: the older one (no
# `cancel_approved` step yet) ran the first months, and git still knows it. Every row
# conforms to its own config. What does not conform are entities whose status changed
# **behind the engine's back**: a manual `UPDATE` leaves the entity table disagreeing
# with its last history row.

# %%
planted = k.deviations[k.deviations["kind"] == "status_mismatch"]
planted[["workflow", "entity_id", "detail"]]

# %%
import sqlalchemy as sa

with sa.create_engine(DB).connect() as conn:
    manifest = conn.execute(
        sa.text("SELECT entity_id FROM wfnb_demo_manifest WHERE kind = 'manual_update'")
    ).scalars()
    assert set(manifest) == set(planted["entity_id"])  # found exactly what was planted
print("found every planted manual UPDATE, and nothing else")

# %% [markdown]
# ## 4. Drill in: one entity's timeline, and the failure browser

# %%
from wfnb.jupyter.widgets import EntityTimeline, FailureBrowser

db = sa.create_engine(DB)
timeline = EntityTimeline(db, wfs)
timeline.workflow.value = "invoice"
timeline.entity.value = "inv_000703"
timeline

# %%
FailureBrowser(db, wfs)

# %% [markdown]
# ## 5. A fix by hand, recorded
#
# The planted UPDATEs of section 3 are *unexplained*: no row says who changed what, or
# when. `engine.install(audit_trigger=True)` puts a trigger on each entity table that
# records a status change made outside the engine as a history row of kind **`manual`**
# (the engine's own writes mark themselves and are never recorded twice; see
# `docs/audit-trigger.md`). We try it on a copy of the demo, so the other notebooks see
# the demo as it was built.

# %%
import sqlite3

with sqlite3.connect("demo.db") as source, sqlite3.connect("fixed.db") as copy:
    source.backup(copy)  # the whole database, what its write-ahead log holds included
source.close()
copy.close()
FIXED = "sqlite:///fixed.db"
engine = wfnb.Engine(wfs, FIXED)
engine.install(audit_trigger=True)
engine.dispose()

# %% [markdown]
# A support engineer opens the database with a plain connection (no wfnb, no engine) and
# marks an overdue invoice as paid (the member paid at the counter):

# %%
plain = sqlite3.connect("fixed.db")
with plain:  # one transaction, committed
    (invoice,) = plain.execute(
        "SELECT id FROM invoices WHERE status = 'overdue' ORDER BY id LIMIT 1"
    ).fetchone()
    plain.execute("UPDATE invoices SET status = 'paid' WHERE id = ?", (invoice,))
plain.close()
invoice

# %% [markdown]
# The invoice's timeline now ends with a `manual` row. On PostgreSQL its "source / role"
# column names the database role that ran the UPDATE (`current_user`), with the session's
# `app.*` settings in its metadata; SQLite has no roles, so there it reads "—".

# %% tags=["nbval-ignore-output"]  (the manual row is stamped with the moment this cell ran)
fixed_timeline = EntityTimeline(sa.create_engine(FIXED), wfs)
fixed_timeline.workflow.value = "invoice"
fixed_timeline.entity.value = invoice
fixed_timeline

# %%
last = frames.history(FIXED, "invoice", invoice, progress=False).iloc[0]  # newest first
role = last["source"] if pd.notna(last["source"]) else "no role (SQLite has none)"
print(f"{invoice}: {last['kind']}, {last['from_status']} → {last['to_status']}, by {role}")
assert last["kind"] == "manual"

# %% [markdown]
# Conformance tells the two apart: a change by hand the trigger recorded is
# **manual, recorded**; a change no history row records stays **unexplained**.

# %%
fixed_report = wfnb.conformance(FIXED, wfs, now=END)
by_hand = fixed_report.by_hand()
assert set(by_hand["category"]) == {"manual, recorded", "unexplained"}
by_hand[["workflow", "entity_id", "category", "kind", "detail"]]
