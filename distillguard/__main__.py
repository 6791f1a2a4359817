from __future__ import annotations

from distillguard.cli.main import main

main()
