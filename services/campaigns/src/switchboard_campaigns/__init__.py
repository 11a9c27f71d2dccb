"""Campaigns, broadcast lists and bulk sends."""
