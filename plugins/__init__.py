"""dnsd's plugins, installed as ``dnsd.plugins``: one folder per plugin, named as its directive."""
