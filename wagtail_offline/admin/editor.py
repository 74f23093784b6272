"""Placeholder until this screen lands."""
