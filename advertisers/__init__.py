"""The advertiser's side of the HTTP interface: portal and API."""
