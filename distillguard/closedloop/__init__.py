"""The closed loop: how much a campaign still extracts under detection and enforcement.

``distillguard simulate --closed-loop`` replays a labelled scenario in time order through a model
of the gateway (:mod:`~distillguard.closedloop.gateway`), with a detection run and the
enforcement policy every hour (:mod:`~distillguard.closedloop.detection`), optionally against an
attacker who replaces blocked accounts (:mod:`~distillguard.closedloop.attacker`), and reports
yield, containment time, collateral and attacker cost (:mod:`~distillguard.closedloop.tally`).
"""

from distillguard.closedloop.engine import REPORT_NAME, LoopOptions, run_closed_loop

__all__ = ["REPORT_NAME", "LoopOptions", "run_closed_loop"]
