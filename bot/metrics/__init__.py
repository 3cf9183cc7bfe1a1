"""Prometheus metrics: what each job did (`jobs`), counted by its worker process (`worker`), served (`exposition`).

Nothing here imports prometheus_client at module level: it picks per-process or shared
(multiprocess) counts when it is first imported, so the command line sets
`PROMETHEUS_MULTIPROC_DIR` first (`bot/cli/serve_cmd.py:metrics_dir`).
"""
