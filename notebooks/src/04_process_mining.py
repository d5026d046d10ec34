# %% [markdown]
# # Process mining: what actually happened, next to what the config allows
#
# A billing system hands over its invoice log as an **XES** file (IEEE 1849, the format
# pm4py, ProM, Disco and Celonis read). This notebook loads it into a fresh database,
# discovers the process from what happened, sets it against the invoice workflow's
# config, checks conformance, and writes the history back out as XES.
#
# The log in `data/invoices.xes.gz` is simulated (`scripts/make-eventlog`): no third-party
# data is shipped.

# %%
%load_ext wfnb
import shutil
import tempfile
from pathlib import Path

import sqlalchemy as sa

import wfnb
from wfnb import frames
from wfnb.examples.energy.schema import workflows_dir

wfs = %wfnb load {workflows_dir()}
work = Path(tempfile.gettempdir()) / "wfnb-process-mining"  # nothing next to the notebook
shutil.rmtree(work, ignore_errors=True)  # a fresh database on every run
work.mkdir()
MINED = f"sqlite:///{work / 'mined.db'}"

# %% [markdown]
# ## 1. Import the log
# One transaction: the history rows, and each invoice at the status its last event
# entered. A malformed file would be one `WF401` line with its position, and nothing
# written.

# %%
imported = wfnb.import_log("data/invoices.xes.gz", MINED, workflow="invoice", wfs=wfs)
print(imported)

# %%
with sa.create_engine(MINED).connect() as conn:
    in_db = conn.execute(sa.text("SELECT count(*) FROM workflow_history")).scalar_one()
assert in_db == imported.events  # what the report says is what the table holds
print(f"workflow_history holds {in_db:,} rows, as reported")
%wfnb connect {MINED}

# %% [markdown]
# ## 2. Discover: the directly-follows graph of what happened
# Each edge is two consecutive events of one invoice; its label gives how often it was
# taken and how long it took (median and 90th percentile). Each status shows how long
# invoices stayed there.

# %% tags=["nbval-ignore-output"]
dfg = %wfnb discover invoice
dfg

# %%
dfg.edges

# %% [markdown]
# Set against the config: edges the config allows but nobody took are grey and dotted;
# edges taken that the config does not allow would be red and dashed.

# %% tags=["nbval-ignore-output"]
%wfnb discover invoice --overlay

# %%
overlay = dfg.overlay(wfs["invoice"])
overlay

# %% [markdown]
# ## 3. Variants: the distinct paths invoices took

# %%
%wfnb variants invoice --limit 10

# %% [markdown]
# ## 4. Conformance: is every move one the config allows?

# %% tags=["nbval-ignore-output"]
k = %wfnb conformance invoice
k

# %% [markdown]
# ## 5. A model from reality
# `wfnb.skeleton` writes a workflow config from what happened, use cases marked as
# placeholders: a starting point for modelling a process nobody wrote down yet.

# %%
import json

config = wfnb.skeleton(MINED, "invoice")
print("the skeleton validates:", wfnb.validate(config).ok)
print(json.dumps({k: config[k] for k in ("initial_status", "terminal_statuses")}, indent=2))

# %% [markdown]
# ## 6. Export again: XES for the tools auditors already use

# %% tags=["nbval-ignore-output"]
again = work / "invoices-again.xes.gz"
%wfnb export {again} --workflow invoice

# %%
back = frames.history(MINED, workflow="invoice", limit=None)
print(f"{len(back):,} events exported, the {imported.events:,} imported")
