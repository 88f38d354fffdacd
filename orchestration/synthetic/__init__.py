"""Synthetic data for demos, tests and the benchmark: ``novora generate`` (SPEC section 8).

``generate(landing, GenerateOptions(...))`` writes a realistic org and its monthly pulse surveys into the landing
zone (SPEC section 3) and returns a :class:`GenerationReport` naming the planted scenarios (which alerts must
fire, where) and any deliberately invalid rows (file, line, kind) for the quarantine to catch.
"""

from orchestration.synthetic.generator import (
    DEFECT_KINDS,
    GenerateOptions,
    GenerationReport,
    PlantedDefect,
    generate,
)
from orchestration.synthetic.scenarios import Scenario

__all__ = ["DEFECT_KINDS", "GenerateOptions", "GenerationReport", "PlantedDefect", "Scenario", "generate"]
