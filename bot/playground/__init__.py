"""A local stand-in for Slack that a newcomer opens in a browser: it sends the bot the same
signed requests Slack would, answers its Web API calls, and shows its replies."""
