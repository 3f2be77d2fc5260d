{{- define "ragline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ragline.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "ragline.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "ragline.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "ragline.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "ragline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ragline
{{- end }}

{{- define "ragline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ragline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The labels of one worker's pods; call with (dict "root" $ "worker" $name). */}}
{{- define "ragline.workerSelectorLabels" -}}
{{ include "ragline.selectorLabels" .root }}
app.kubernetes.io/component: {{ .worker }}
{{- end }}

{{- define "ragline.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The Secret holding the workers' secrets. */}}
{{- define "ragline.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "ragline.fullname" .) }}
{{- end }}

{{- define "ragline.migrationSecretName" -}}
{{- .Values.secrets.migration.existingSecret | default (printf "%s-migration" (include "ragline.fullname" .)) }}
{{- end }}

{{- define "ragline.secretsDir" -}}
/etc/ragline/secrets
{{- end }}

{{/* DATABASE_URL of a login, without a password (that comes from DATABASE_PASSWORD_FILE). */}}
{{- define "ragline.databaseUrl" -}}
{{- $db := .root.Values.database -}}
{{- if or (regexMatch "[:@/?#]" .user) (regexMatch "(?i)(^|&)password=" ($db.params | default "")) -}}
{{- fail "database.workerUser, database.ownerUser and database.params must not carry a password (DATABASE_URL is in a ConfigMap): put it in the Secret" -}}
{{- end -}}
{{- $params := list -}}
{{- with $db.params }}{{ $params = append $params . }}{{ end -}}
{{- with $db.tls.caSecret }}{{ $params = append $params (printf "sslrootcert=%s/%s" (include "ragline.postgresCaDir" $) $db.tls.caKey) }}{{ end -}}
{{- printf "postgresql://%s@%s:%v/%s" .user (required "database.host is required" $db.host) $db.port $db.name -}}
{{- if $params }}?{{ join "&" $params }}{{ end -}}
{{- end }}

{{- define "ragline.postgresCaDir" -}}
/etc/ragline/postgres-ca
{{- end }}

{{- define "ragline.kafkaCaDir" -}}
/etc/ragline/kafka-ca
{{- end }}

{{/* The certificate authorities' volume mounts; call with the root context and (list "postgres" "kafka") as wanted. */}}
{{- define "ragline.caMounts" -}}
{{- if .root.Values.database.tls.caSecret }}
- name: postgres-ca
  mountPath: {{ include "ragline.postgresCaDir" . }}
  readOnly: true
{{- end }}
{{- if and .kafka .root.Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: {{ include "ragline.kafkaCaDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{- define "ragline.caVolumes" -}}
{{- with .root.Values.database.tls }}
{{- if .caSecret }}
- name: postgres-ca
  secret:
    secretName: {{ .caSecret }}
    items:
      - key: {{ .caKey }}
        path: {{ .caKey }}
{{- end }}
{{- end }}
{{- if .kafka }}
{{- with .root.Values.kafka.tls }}
{{- if .caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .caSecret }}
    items:
      - key: {{ .caKey }}
        path: {{ .caKey }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Secret keys one worker mounts, as a list of "key=VARIABLE_FILE"; call with
(dict "root" $ "worker" $name).
*/}}
{{- define "ragline.workerSecretFiles" -}}
{{- $v := .root.Values -}}
- database-password=DATABASE_PASSWORD_FILE
{{- if or (eq .worker "console") (and (eq .worker "embedding-worker") (not $v.search.allowAnonymous)) }}
- api-tokens=RAGLINE_API_TOKENS_FILE
{{- end }}
{{- if and (eq .worker "embedding-worker") (eq $v.embedding.provider "openai") $v.embedding.openai.apiKey }}
- openai-api-key=RAGLINE_OPENAI_API_KEY_FILE
{{- end }}
{{- if eq .worker "ingest-worker" }}
{{- range $source, $s := $v.webhooks.sources }}
- webhook-{{ $source | lower }}-secret=RAGLINE_WEBHOOK_{{ $source | upper }}_SECRET_FILE
{{- end }}
{{- end }}
{{- if $v.kafka.propertiesFile }}
- kafka.properties=RAGLINE_KAFKA_PROPERTIES_FILE
{{- end }}
{{- end }}

{{/* Pod-level settings every Ragline pod shares. */}}
{{- define "ragline.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
