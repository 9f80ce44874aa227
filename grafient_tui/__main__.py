from grafient_tui.cli import main

raise SystemExit(main())
