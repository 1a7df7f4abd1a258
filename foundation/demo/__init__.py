"""A synthetic, deterministic demo district: schools, org tree, staff, students, guardians and logins.

``build_demo(engine, schools=…, students_per_school=…, seed=…, password=…, secret_key=…)`` writes it
into an empty schema in one transaction; see :mod:`foundation.demo.generator`.
"""
from foundation.demo.generator import YEAR_START, build_demo

__all__ = ["YEAR_START", "build_demo"]
