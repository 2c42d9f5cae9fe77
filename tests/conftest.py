"""Shared fixtures, loaded as plugins so that every test directory keeps plain module names
(the directories are on ``sys.path`` through pytest's ``pythonpath`` setting)."""

pytest_plugins = ["lab_fixtures", "cluster_fixtures"]
