"""The Slack front-end (slack-bolt AsyncApp)."""
