"""Example domains that exercise wfnb end to end (workflow files live in ``workflows/``)."""
