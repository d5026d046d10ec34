"""What a reviewer asks of a workflow: its graph, its paths, its diagram, and what changed.

``graph`` and ``paths`` need only networkx; drawing imports the ``graphviz`` package on use,
and ``WorkflowDiff.to_frame`` imports pandas on use.
"""

from wfnb.analysis.change import Change, ChangeKind
from wfnb.analysis.diagram import Diagram, diagram
from wfnb.analysis.diff import WorkflowDiff, diff, diff_revisions, diff_tenant, load_version
from wfnb.analysis.graph import EdgeKind, graph, requester_view
from wfnb.analysis.ir import DiagramIR, EdgeIR, NodeIR
from wfnb.analysis.paths import AloneReport, PathReport, alone, paths

__all__ = [
    "AloneReport",
    "Change",
    "ChangeKind",
    "Diagram",
    "DiagramIR",
    "EdgeIR",
    "EdgeKind",
    "NodeIR",
    "PathReport",
    "WorkflowDiff",
    "alone",
    "diagram",
    "diff",
    "diff_revisions",
    "diff_tenant",
    "graph",
    "load_version",
    "paths",
    "requester_view",
]
