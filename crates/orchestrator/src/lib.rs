//! Trader runtimes behind one trait: Docker Engine API (bollard) and local child processes.
