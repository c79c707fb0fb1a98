"""Thin route modules: parse a schema, call one application method, return a schema."""
