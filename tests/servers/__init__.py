"""Throwaway Redis and PostgreSQL servers for the tests, started from Debian's packages
(`make test` installs them) on free ports of 127.0.0.1."""
