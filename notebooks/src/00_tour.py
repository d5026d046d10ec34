# %% [markdown]
# # A tour of wfnb
#
# wfnb runs **entity-is-state** workflows: the status column of a domain entity *is* the
# workflow state, every step is select → validate → action → compare-and-swap → side
# effects, and every transition lands in `workflow_history`.
#
# This tour uses the energy-community examples (`workflows/`) and the demo dataset: six
# simulated months of members, sharing groups, billing periods and invoices.

# %%
%load_ext wfnb
from pathlib import Path

import wfnb
from wfnb.examples.energy.schema import workflows_dir

WORKFLOWS = workflows_dir()
if not Path("demo.db").exists():  # README command 1 builds it; a fresh kernel can too
    wfnb.build_demo("sqlite:///demo.db", progress=False)

# %% [markdown]
# ## 1. Validate: every problem at once, each with a code and a JSON pointer

# %%
report = wfnb.validate([WORKFLOWS])
report

# %% [markdown]
# ## 2. Load the workflows and connect to the demo data

# %%
wfs = %wfnb load {WORKFLOWS}
%wfnb connect sqlite:///demo.db
wfs

# %% [markdown]
# The explorer: drag to pan, wheel or the buttons to zoom, "Fit" for the whole drawing.
# Click a status for the entities there now (paged, filterable) and how long they have
# been there; click an entity for its timeline; hover an edge for its count, median and
# p90; toggle the history heat, deviations, one requester's view or a version diff.

# %% tags=["nbval-ignore-output"]
%wfnb explore invoice --overlay heat

# %% [markdown]
# ## 3. Explore: pick a workflow and a status; toggle the history heat

# %%
from wfnb.jupyter.explorer import WorkflowExplorer
from wfnb.plots import edge_counts

explorer = WorkflowExplorer(wfs, counts=lambda wf: edge_counts("sqlite:///demo.db", wf))
explorer

# %% [markdown]
# ## 4. One entity: where is it, what could happen next, what would a step change?

# %%
x = %wfnb explain invoice inv_000576 admin
print(x)

# %% tags=["nbval-ignore-output"]  (a dry-run stamps the moment it ran)
dr = %wfnb dryrun invoice inv_000576 admin --step write_off --data '{"reason": "customer insolvent"}'
assert dr.result.to_status == "written_off"  # in the sandbox only
dr

# %% [markdown]
# ## 5. Every magic, with its purpose
# `%wfnb help` lists the commands, each with what it is for.

# %%
%wfnb help
