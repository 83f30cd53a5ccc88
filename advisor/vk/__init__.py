"""Checking a VK public before buying an ad in it: links, data collection, metrics, report."""
