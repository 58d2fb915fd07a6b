"""cdn-task-bot: Slack chat-ops for Alibaba Cloud CDN refresh and prefetch tasks."""
