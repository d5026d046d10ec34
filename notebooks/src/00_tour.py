# %% [markdown]
# # A tour of wfnb
#
# wfnb runs **entity-is-state** workflows: the status column of a domain entity *is* the
# workflow state. Workflows are JSON files; this tour loads the energy-community examples,
# checks them, draws them and explores them.

# %%
%load_ext wfnb
import wfnb
from wfnb.examples.energy.schema import workflows_dir

WORKFLOWS = workflows_dir()

# %% [markdown]
# ## 1. Validate: every problem at once, each with a code and a JSON pointer

# %%
report = wfnb.validate([WORKFLOWS])
report

# %% [markdown]
# ## 2. Load, and look at one workflow

# %%
wfs = %wfnb load {WORKFLOWS}
wfs

# %%
# NBVAL_IGNORE_OUTPUT
%wfnb graph invoice

# %% [markdown]
# ## 3. Explore: pick a workflow and a status

# %%
from wfnb.jupyter.explorer import WorkflowExplorer

explorer = WorkflowExplorer(wfs)
explorer
