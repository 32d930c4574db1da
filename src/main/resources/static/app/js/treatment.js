// Treatment: placeholder until the care-plan operations ($apply, $nssi-progress) are on the server.
export class Treatment {
  constructor(fhir, container, refresh) {
    this.fhir = fhir;
    this.container = container;
    this.refresh = refresh;
  }

  async load() {}
}
