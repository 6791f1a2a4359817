from __future__ import annotations

import sys
from pathlib import Path

# The shared builders in enforce_factories.py are imported by the tests of every subfolder.
sys.path.insert(0, str(Path(__file__).parent))
