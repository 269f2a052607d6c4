"""`make bench`: cold start, warm latency, AWS calls per request, onboarding throughput, scale, sizes."""
