"""Flows and auto-replies: automation on inbound messages, executed durably, answering once."""
