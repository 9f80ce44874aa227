"""One module per screen: home (the cards), add, detail, confirm delete, keys help."""
