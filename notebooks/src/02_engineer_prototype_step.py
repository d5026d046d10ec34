# %% [markdown]
# # Engineer: prototype a new step, validate it, dry-run it
#
# Finance wants overdue invoices that stay unpaid to go to a collection agency. Before
# anything is merged, we write the use case here, add the step to a copy of the config,
# validate it, and run it against the demo data in a **sandbox**: the source database is
# never written.

# %%
%load_ext wfnb
import hashlib
from pathlib import Path

import wfnb
from wfnb.examples.energy.schema import workflows_dir

WORKFLOWS = workflows_dir()
if not Path("demo.db").exists():
    wfnb.build_demo("sqlite:///demo.db", progress=False)
wfs = %wfnb load {WORKFLOWS}
%wfnb connect sqlite:///demo.db


def checksum() -> str:
    return hashlib.sha256(Path("demo.db").read_bytes()).hexdigest()


before = checksum()

# %% [markdown]
# ## 1. Write the use case
# `%%wfnb_usecase` runs the cell and registers the function: dry-runs use it in place of a
# use case of the same name.

# %%
%%wfnb_usecase
def check_collectable(ctx):
    from wfnb import Result

    amount = ctx.entity["amount_cents"]
    if amount < 10_000:
        return Result.reject("below the collection threshold", amount_cents=amount)
    return Result.ok(amount_cents=amount)

# %% [markdown]
# ## 2. Describe the step, and let the validator check it first
# A step that names an undeclared status comes back as coded problems, before anything runs:

# %%
bad = {"key": "send_to_collection", "status": "overdue", "requester_types": ["admin"],
       "validation": "check_collectable", "successful_state": "in_collection"}
try:
    wfnb.dry_run("sqlite:///demo.db", wfs, "invoice", "inv_000576", "admin", step=bad,
                 use_cases={"check_collectable": check_collectable})
except wfnb.ConfigError as exc:
    problems = [(p.code, p.pointer, p.message) for p in exc.problems]
problems

# %% [markdown]
# Fixed: collection is a write-off with a reason, so it targets `written_off`.

# %%
# NBVAL_IGNORE_OUTPUT
# (a dry-run stamps the moment it ran)
step = {**bad, "successful_state": "written_off"}
dr = wfnb.dry_run("sqlite:///demo.db", wfs, "invoice", "inv_000576", "admin", step=step,
                  use_cases={"check_collectable": check_collectable})
dr

# %%
assert dr.result.to_status == "written_off"
dr.history[0]["metadata"], dr.changes

# %% [markdown]
# A small invoice takes the rejection path instead (the validation said no):

# %%
import sqlalchemy as sa

with sa.create_engine("sqlite:///demo.db").connect() as conn:
    small = conn.execute(sa.text(
        "SELECT id FROM invoices WHERE status = 'overdue' AND amount_cents < 10000 ORDER BY id"
    )).scalar()
small

# %%
if small is not None:
    no = wfnb.dry_run("sqlite:///demo.db", wfs, "invoice", small, "admin", step=step,
                      use_cases={"check_collectable": check_collectable})
    print(no.result.outcome, no.why)

# %% [markdown]
# ## 3. The same from the magic, and the step runner widget

# %%
# NBVAL_IGNORE_OUTPUT
%wfnb dryrun invoice inv_000604 admin --step write_off --data '{"reason": "customer insolvent"}'

# %%
from wfnb.jupyter.widgets import StepRunner

runner = StepRunner(sa.create_engine("sqlite:///demo.db"), wfs,
                    use_cases={"check_collectable": check_collectable})
runner.workflow.value = "invoice"
runner.entity.value = "inv_000610"
runner.requester.value = "admin"
runner

# %% [markdown]
# ## 4. Nothing was written

# %%
assert checksum() == before
"demo.db is byte-for-byte what it was"
