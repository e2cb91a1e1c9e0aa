"""The WSDL contract, shipped inside the package as ``gspws.wsdl`` (setup.cfg package_dir);
gspws.soap.wsdl finds it with importlib.resources."""
