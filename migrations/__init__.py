"""Alembic migrations, shipped in the package so `promo-advisor migrate` works when installed."""
