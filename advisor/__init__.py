"""Promo Advisor: the brain of the VK promotion coach. Imports no chat framework."""
