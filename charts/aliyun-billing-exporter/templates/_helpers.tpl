{{/* The release's name for every object, at most 63 characters. */}}
{{- define "aliyun-billing-exporter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "aliyun-billing-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "aliyun-billing-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aliyun-billing-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aliyun-billing-exporter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "aliyun-billing-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "aliyun-billing-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aliyun-billing-exporter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the config file: the chart's own, or an existing one. */}}
{{- define "aliyun-billing-exporter.configSecretName" -}}
{{- if .Values.config.existingSecret -}}
{{- .Values.config.existingSecret -}}
{{- else if .Values.config.file -}}
{{- printf "%s-config" (include "aliyun-billing-exporter.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The value of the stable instance label (see serviceMonitor.instance). */}}
{{- define "aliyun-billing-exporter.instance" -}}
{{- default (include "aliyun-billing-exporter.fullname" .) .Values.serviceMonitor.instance -}}
{{- end -}}
