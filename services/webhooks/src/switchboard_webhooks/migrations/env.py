from switchboard_runtime.migration_env import run_migrations

run_migrations()
