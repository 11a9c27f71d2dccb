"""HTTP plumbing shared by the services that serve HTTP: JSON errors, body limits."""
