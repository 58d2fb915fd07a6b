"""The Alibaba Cloud CDN adapter: signing, the HTTP client, its rate limit and cache, the emulator."""
