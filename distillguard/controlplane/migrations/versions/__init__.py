"""Migration scripts, applied in order by :mod:`distillguard.controlplane.migrator`."""
