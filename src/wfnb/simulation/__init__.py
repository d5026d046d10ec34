"""Simulation on a virtual clock, the demo dataset, and what-if replays of a history."""

from wfnb.simulation.demo import DemoReport, build_demo, demo_configs
from wfnb.simulation.report import SimulationReport
from wfnb.simulation.scenario import Action, Arrival, Delay, Scenario, Variant, load_scenario
from wfnb.simulation.simulate import Simulation, simulate
from wfnb.simulation.whatif import WhatIfReport, what_if

__all__ = [
    "Action",
    "Arrival",
    "Delay",
    "DemoReport",
    "Scenario",
    "Simulation",
    "SimulationReport",
    "Variant",
    "WhatIfReport",
    "build_demo",
    "demo_configs",
    "load_scenario",
    "simulate",
    "what_if",
]
