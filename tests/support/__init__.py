"""Test-only helpers: fakes of the network services the bot talks to."""
