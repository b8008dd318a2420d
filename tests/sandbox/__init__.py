"""Tests of the Zendesk sandbox (sandbox/)."""
