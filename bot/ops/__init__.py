"""Running the bot: command line, settings and config, processes, migrations, exports, the demo."""
