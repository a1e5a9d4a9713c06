"""Reports: a run's tables, figures from the viewers' side, verdicts and profiles (no
servers, no sockets: arithmetic over what the clients recorded)."""
