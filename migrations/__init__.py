"""The Alembic migrations, shipped inside the package as ``gspws.migrations`` (setup.cfg
package_dir); ``gspws db upgrade`` finds them with importlib.resources."""
