"""The Alibaba Cloud CDN adapter: signing, client, rate limit, cache and the API emulator."""
