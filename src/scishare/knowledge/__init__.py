"""Knowledge graph: techniques, properties, materials, industries, standards and links."""
