# %% [markdown]
# # Regulator: review the workflow logic
#
# The user-registration workflow decides who may join an energy community and share
# electricity. A reviewer wants to see: every status and transition, every way to reach
# a final status, what each kind of requester can do alone, what changed between two
# versions, and one self-contained report to file.

# %%
%load_ext wfnb
import wfnb
from wfnb.examples.energy.schema import workflows_dir

WORKFLOWS = workflows_dir()
wfs = %wfnb load {WORKFLOWS}
reg = wfs["user_registration"]
reg

# %% [markdown]
# ## 0. Explore what happened
# Click a status for the registrations there now and how long they have waited; click one
# for its timeline (config versions, deviations); hover an edge for its numbers. The
# overlays show the history heat, deviations, what one requester type alone can trigger,
# and the edges added, removed or changed between two git revisions.

# %% tags=["nbval-ignore-output"]
%wfnb connect sqlite:///demo.db
%wfnb explore user_registration

# %% [markdown]
# ## 1. The graph
# Rejection edges are dashed, claim statuses are drawn apart, terminal statuses have a
# double border, the failure status is red.

# %% tags=["nbval-ignore-output"]
%wfnb graph user_registration

# %% [markdown]
# ## 2. Paths: reachability, dead ends, cycles, every way to a final status

# %%
p = %wfnb paths user_registration
p

# %%
import pandas as pd

pd.set_option("display.max_colwidth", None)  # whole paths, not cut at 50 characters
pd.DataFrame(
    [(final, " → ".join(path)) for final, path in p.shortest.items()],
    columns=["final status", "shortest way there"],
).set_index("final status")

# %% [markdown]
# ## 3. What can each requester type do alone?

# %%
from wfnb.analysis import alone

alone(reg)

# %% tags=["nbval-ignore-output"]
%wfnb graph user_registration --requester admin

# %% [markdown]
# ## 4. What changed between two versions?
# Git is the version history of `workflows/`: the invoice workflow gained a step.

# %% tags=["nbval-ignore-output"]
from wfnb.analysis import diff_revisions
from wfnb.loader import git_revisions

invoice = WORKFLOWS / "invoice.json"
# c8898d9: the invoice config as it ran until July 2026; ff529e1: admins may cancel an
# approved invoice. A shallow clone lacks them: then compare the demo's own old config.
if {"c8898d9", "ff529e1"} <= {r[:7] for r in git_revisions(invoice)}:
    change = diff_revisions(invoice, "c8898d9", "ff529e1")
else:
    from wfnb.simulation import demo_configs

    (old,) = demo_configs().values()
    change = wfnb.diff(old, wfs["invoice"])
change

# %%
changes = [(str(c.kind), c.subject, c.migration_needed) for c in change.changes]
assert any("cancel_approved" in subject for _, subject, _ in changes)
for kind, subject, migration in changes:
    print(f"{kind.replace('_', ' ')}: {subject}" + (" (needs a migration)" if migration else ""))

# %% [markdown]
# ## 5. The report to file
# One HTML file: diagrams (inline SVG), statuses, steps, paths, validation, and with a
# database, the conformance summary. No network needed to open it.

# %%
from html import escape

from IPython.display import HTML

path = wfnb.report(wfs, "report.html")
HTML(f'The report: <a href="{escape(str(path))}" target="_blank">{escape(str(path))}</a>')

# %%
import re

html = path.read_text()
assert html.count("<svg") >= len(wfs)
assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing fetched from a network
print(f"{len(html) // 1024} KiB, {html.count('<svg')} diagrams, {html.count('<table')} tables")
